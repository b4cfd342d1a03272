using Microsoft.Playwright;

namespace GenRec.Tests.Serving;

/// <summary>A fact that needs Debian's chromium: skipped where it is missing, unless CI requires it (GENREC_REQUIRE_BROWSER=1).</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public const string Chromium = "/usr/bin/chromium";

    public BrowserFactAttribute()
    {
        if (!File.Exists(Chromium) && Environment.GetEnvironmentVariable("GENREC_REQUIRE_BROWSER") != "1")
            Skip = "chromium is not installed (.ci/run installs Debian's chromium and sets GENREC_REQUIRE_BROWSER=1).";
    }
}

/// <summary>The page at / driven end to end in headless Chromium, against the running test service.</summary>
public class PageTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    [BrowserFact]
    public async Task AUserTypesAnIdAndSeesHistoryAndScoredRecommendations()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = BrowserFactAttribute.Chromium,
            Headless = true,
            Args = ["--no-sandbox"],
        });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(service.Client.BaseAddress!.ToString());
        await Assertions.Expect(page.Locator("#models")).ToContainTextAsync("items");

        await page.FillAsync("#user", "12");
        await page.FillAsync("#k", "4");
        await page.ClickAsync("#go");
        await Assertions.Expect(page.Locator("#recs tbody tr")).ToHaveCountAsync(4);
        Assert.True(await page.Locator("#history tbody tr").CountAsync() > 0);
        var header = await page.Locator("#recs thead").InnerTextAsync();
        Assert.Contains("like", header);
        var firstScore = await page.Locator("#recs tbody tr >> nth=0 >> td >> nth=3").InnerTextAsync();
        Assert.Matches(@"^0\.\d{3}$", firstScore);

        await page.FillAsync("#user", "someone-new");
        await page.ClickAsync("#go");
        await Assertions.Expect(page.Locator("#status .flag")).ToContainTextAsync("cold start");

        await page.FillAsync("#user", "12");
        await page.FillAsync("#k", "100000");
        await page.ClickAsync("#go");
        await Assertions.Expect(page.Locator("#status.error")).ToContainTextAsync("at most");
    }
}
