using Microsoft.Playwright;

namespace Tally.Server.Tests.Infrastructure;

/// <summary>
/// A server plus Debian's headless Chromium driven by Playwright. The browser is the system one
/// (<c>/usr/bin/chromium</c>, installed by <c>./test.sh</c> with apt-get): Playwright never downloads
/// one. Its Node driver ships inside the Microsoft.Playwright package and runs offline.
/// </summary>
public sealed class BrowserFixture : ServerFixture
{
    /// <summary>The system Chromium; <c>TALLY_CHROMIUM</c> points elsewhere on a machine that keeps it elsewhere.</summary>
    public static readonly string ChromiumPath = Environment.GetEnvironmentVariable("TALLY_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>Playwright's waits and expectations give up after this long (no fixed sleeps anywhere).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"{ChromiumPath} is missing: ./test.sh installs it (apt-get install -y chromium), or set TALLY_CHROMIUM.");
        }

        await base.InitializeAsync();
        Assertions.SetDefaultExpectTimeout((float)Timeout.TotalMilliseconds);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
            Timeout = (float)Timeout.TotalMilliseconds,
        });
    }

    /// <summary>A fresh browser context (its own localStorage, so its own voter id) with one page, on the server or <paramref name="baseAddress"/>.</summary>
    public async Task<IPage> NewPageAsync(Uri? baseAddress = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = (baseAddress ?? Server.BaseAddress).ToString(),
            ViewportSize = new ViewportSize { Width = 900, Height = 1000 },
        });
        context.SetDefaultTimeout((float)Timeout.TotalMilliseconds);
        return await context.NewPageAsync();
    }

    public override async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        await base.DisposeAsync();
    }
}
