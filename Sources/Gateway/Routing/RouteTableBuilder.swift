/// Groups routes by host condition and path, keeping file order, for ``RouteTable/init(routes:)``.
struct RouteTableBuilder {
    struct Bucket {
        var host: HostPattern?
        // Path → route indices in file order, in order of first appearance.
        var exactPaths: [(path: String, routes: [Int])] = []
        var prefixes: [(prefix: String, routes: [Int])] = []
    }

    private(set) var buckets: [Bucket] = []
    private var bucketIndex: [HostPattern?: Int] = [:]

    mutating func add(_ route: RouteConfig, index: Int) {
        let host = route.match.host
        let bucket: Int
        if let existing = bucketIndex[host] {
            bucket = existing
        } else {
            bucket = buckets.count
            bucketIndex[host] = bucket
            buckets.append(Bucket(host: host))
        }
        switch route.match.path {
        case .exact(let path):
            if let position = buckets[bucket].exactPaths.firstIndex(where: { $0.path == path }) {
                buckets[bucket].exactPaths[position].routes.append(index)
            } else {
                buckets[bucket].exactPaths.append((path, [index]))
            }
        case .prefix(let prefix):
            if let position = buckets[bucket].prefixes.firstIndex(where: { $0.prefix == prefix }) {
                buckets[bucket].prefixes[position].routes.append(index)
            } else {
                buckets[bucket].prefixes.append((prefix, [index]))
            }
        }
    }
}
