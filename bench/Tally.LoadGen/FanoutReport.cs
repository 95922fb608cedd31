namespace Tally.LoadGen;

internal static class FanoutReport
{
    public static int Run(string[] args) => throw new NotImplementedException();
}
