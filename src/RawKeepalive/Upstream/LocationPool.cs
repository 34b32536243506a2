namespace RawKeepalive.Upstream;

/// <summary>What one location draws idle connections from: its upstream group's one keepalive cache
/// and the tag the location's entries carry there. Under <c>keepalive N local</c> (the implicit
/// default) every location has its own tag, so it takes back only connections it released itself, as
/// nginx 1.29.7 tags a cached connection with the location's upstream settings; without <c>local</c>
/// every location of the group has tag 0 and they share. Either way the group keeps at most N idle
/// connections in all, and the locations add nothing to its memory or to the loop's expiry work.</summary>
public sealed class LocationPool(KeepalivePool cache, int tag)
{
    public KeepalivePool Cache { get; } = cache;
    public int Tag { get; } = tag;
}
