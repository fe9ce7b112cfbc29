using Patron.Cards;

namespace Patron.Tests.Cards;

/// <summary>The card's used-up rule on its own, which the card list reads for every card it answers.</summary>
public sealed class CardUsedUpTests
{
    [Fact]
    public void ACardIsUsedUpWhenItHasProductsAndEveryOneIsSpent()
    {
        Assert.False(CardRules.UsedUp<(int, int)>([], p => p)); // nothing to use is not used up
        Assert.False(CardRules.UsedUp<(int, int)>([(3, 3), (1, 2)], p => p));
        Assert.True(CardRules.UsedUp<(int, int)>([(3, 3), (2, 2)], p => p));
    }
}
