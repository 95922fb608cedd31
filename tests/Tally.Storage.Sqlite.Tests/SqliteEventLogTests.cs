using Microsoft.Extensions.Options;
using Tally.Testing;

namespace Tally.Storage.Sqlite.Tests;

public sealed class SqliteEventLogTests : EventLogSpecification, IDisposable
{
    private readonly TempFolder _folder = new();

    protected override IEventLog CreateLog() => new SqliteEventLog(Options.Create(new SqliteStorageOptions { DataPath = _folder.Path }));

    protected override IEventLog? Reopen() => CreateLog();

    public void Dispose() => _folder.Dispose();
}
