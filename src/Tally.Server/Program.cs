using Tally.Server;
using Tally.Server.Hosting;

if (VerifyCommand.Matches(args))
{
    return await VerifyCommand.RunAsync(args, Console.Out, Console.Error);
}

var app = TallyApp.Build(args);
await app.RunAsync();
return 0;
