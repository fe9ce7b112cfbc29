using System.Globalization;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace Patron.Console;

/// <summary>
/// The console's whole numbers (ids in a handler's query, a level's threshold, a page's cursor)
/// read as its routes' <c>{id:long}</c> constraints read them: digits with an optional sign and
/// ASCII white space around, nothing else. MVC's own binder goes through a type converter that
/// first trims every Unicode space, so a hostile <c>?handler=Rotate&amp;id=1%C2%A0</c> (1 and a
/// no-break space) would rotate webhook 1's secret, while <c>/console/members/1%C2%A0</c> is not found.
/// </summary>
public sealed class WholeNumberBinderProvider : IModelBinderProvider
{
    public IModelBinder? GetBinder(ModelBinderProviderContext context) =>
        (Nullable.GetUnderlyingType(context.Metadata.ModelType) ?? context.Metadata.ModelType) is var type
        && (type == typeof(int) || type == typeof(long))
            ? new WholeNumberBinder(type)
            : null;
}

/// <summary>An unreadable number fails the binding, as MVC's binder fails it: the parameter keeps its default, the model state says why.</summary>
public sealed class WholeNumberBinder(Type type) : IModelBinder
{
    public Task BindModelAsync(ModelBindingContext context)
    {
        var values = context.ValueProvider.GetValue(context.ModelName);
        if (values == ValueProviderResult.None)
            return Task.CompletedTask;
        context.ModelState.SetModelValue(context.ModelName, values);
        var text = values.FirstValue;
        if (string.IsNullOrWhiteSpace(text))
        {
            // An empty field is no value: null for a number that may be missing, as MVC's binder has it.
            if (!context.ModelMetadata.IsReferenceOrNullableType)
                context.ModelState.TryAddModelError(context.ModelName, $"{context.ModelName} is required.");
            else
                context.Result = ModelBindingResult.Success(null);
            return Task.CompletedTask;
        }
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number)
            && (type == typeof(long) || number is >= int.MinValue and <= int.MaxValue))
            context.Result = ModelBindingResult.Success(type == typeof(long) ? (object)number : (int)number);
        else
            context.ModelState.TryAddModelError(context.ModelName, $"{context.ModelName} is not a whole number.");
        return Task.CompletedTask;
    }
}
