using Tally.Server;

var app = TallyApp.Build(args);
await app.RunAsync();
