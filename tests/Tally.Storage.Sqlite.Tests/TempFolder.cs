namespace Tally.Storage.Sqlite.Tests;

/// <summary>A folder under /tmp that is deleted with the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("tally-test-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a finalizer-bound connection: the OS temp cleaner takes it.
        }
    }
}
