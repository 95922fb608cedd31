using Tally.Testing.Faults;

namespace Tally.Server.Tests.Faults;

/// <summary>
/// A tmpfs of a few MiB the test mounts (as root, or through <c>sudo -n</c>, as <c>./test.sh</c> installs packages), so
/// the server's data folder can really fill up, and be given room again (a remount with a larger size) while it runs.
/// </summary>
internal sealed class SmallDisk : IDisposable
{
    private SmallDisk(string path) => Path = path;

    public string Path { get; }

    public static SmallDisk Mount(int mebibytes)
    {
        var path = Directory.CreateTempSubdirectory("tally-small-disk-").FullName;
        Run("mount", "-t", "tmpfs", "-o", $"size={mebibytes}m,mode=0700", "tmpfs", path);
        return new SmallDisk(path);
    }

    /// <summary>Gives the disk room: the same mount, now <paramref name="mebibytes"/> large (the data stays).</summary>
    public void Grow(int mebibytes) => Run("mount", "-o", $"remount,size={mebibytes}m", Path);

    /// <summary>Makes the mount read-only (the server's open files too: a write fails with EROFS), or writable again.</summary>
    public void SetReadOnly(bool readOnly) => Run("mount", "-o", readOnly ? "remount,ro" : "remount,rw", Path);

    public void Dispose()
    {
        try
        {
            Run("umount", "-l", Path);
            Directory.Delete(Path, recursive: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException)
        {
        }
    }

    private static void Run(string command, params string[] args) => Privileged.Run(command, args);
}
