using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Patron.Data;

/// <summary>
/// An EF compiled query (<c>EF.CompileAsyncQuery</c>) for the hottest reads: it skips building the
/// LINQ tree and looking it up in EF's query cache on every call. A compiled query is bound to the
/// first model it runs against and refuses any other, and each provider (and each test host, side by
/// side in one process) has a model of its own: so there is one per model, made on first use.
/// </summary>
public sealed class CompiledQuery<TQuery>(Func<TQuery> compile) where TQuery : class
{
    private readonly ConditionalWeakTable<IModel, TQuery> _byModel = [];

    public TQuery For(DbContext db)
    {
        var model = db.Model;
        return _byModel.TryGetValue(model, out var query) ? query : _byModel.GetValue(model, _ => compile());
    }
}
