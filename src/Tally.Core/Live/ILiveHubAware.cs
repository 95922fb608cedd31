namespace Tally.Live;

/// <summary>
/// An extension point for engines whose <see cref="Engine.ITallyEngine.Catalog"/> holds only the polls watched on
/// this node: cluster mode follows a poll's live updates from its owner while the node's hub streams the poll, and
/// needs to know when the hub stops. Such an engine implements this interface; the host hands it the
/// <see cref="LiveHub"/> it built over the engine's catalog, once, before the engine starts. An engine whose catalog
/// always holds every poll (embedded mode) has no need of it.
/// </summary>
public interface ILiveHubAware
{
    /// <summary>
    /// Gives the engine the hub that streams its catalog. The engine may ask <see cref="LiveHub.HasStream"/> from any
    /// thread, at any time after this call (the hub answers without blocking).
    /// </summary>
    void AttachHub(LiveHub hub);
}
