import Gateway
import GatewayRuntime
import Glibc
import Reactor

/// `portico --check --diff` (docs/operations.md, "Reload"): what a reload of this file would
/// change in the running gateway — the `changes` list `POST /reload` would return — read
/// from the gateway's `GET /config` on the admin address the file names.
enum ReloadPreview {
    /// Prints the changes and returns the exit status: 0 when they could be worked out
    /// (changes or none), 1 when the running gateway could not be asked.
    static func run(file: GatewayConfig) -> Int32 {
        guard let admin = file.admin else {
            printError("portico: --diff needs the file's admin.address to ask the running gateway")
            return 1
        }
        let running: (config: GatewayConfig, generation: Int)
        do throws(AdminFetch.Failure) {
            let answer = try AdminFetch.get("/config", from: SocketAddress(admin.address), token: admin.token)
            guard answer.status == 200 else {
                throw AdminFetch.Failure(
                    message: answer.status == 401
                        ? "the admin endpoint refused the file's admin.token (401)"
                        : "the admin endpoint answered \(answer.status) to GET /config")
            }
            running = try decode(answer.body, token: admin.token)
        } catch {
            printError("portico: \(error.message)")
            return 1
        }
        let diff = ConfigDiff(from: running.config, to: file)
        if diff.changes.isEmpty && diff.restartRequired.isEmpty {
            print("no changes against generation \(running.generation)")
        } else {
            let count = diff.changes.count
            print("\(count) change\(count == 1 ? "" : "s") against generation \(running.generation):")
            for line in diff.changes { print("  \(line)") }
            for line in diff.restartRequired { print("  restart required: \(line)") }
        }
        print("(the admin token is not compared: the running gateway does not reveal it)")
        return 0
    }

    /// The running configuration from `GET /config`: its JSON without the generation and
    /// without nulls (the file's way of saying "absent"), the redacted token replaced by the
    /// file's, decoded like a file.
    private static func decode(_ body: [UInt8], token: String?) throws(AdminFetch.Failure) -> (
        config: GatewayConfig, generation: Int
    ) {
        guard let json = try? JSONValue(parsing: body), case .object(var members) = json else {
            throw AdminFetch.Failure(message: "GET /config did not answer a JSON object")
        }
        let generation =
            members.first(where: { $0.key == "generation" })?.value.integerValue.map(Int.init) ?? 0
        members.removeAll { $0.key == "generation" }
        var config = withoutNulls(.object(members))
        config = replacingToken(config, with: token)
        var bytes: [UInt8] = []
        config.write(to: &bytes, pretty: false)
        switch ConfigLoader.load(json: bytes, resolve: SystemResolver.resolve) {
        case .success(let decoded): return (decoded, generation)
        case .failure(let problems):
            throw AdminFetch.Failure(
                message:
                    "the running configuration does not decode: \(problems.errors.first?.description ?? "")")
        }
    }

    private static func withoutNulls(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            return .object(
                members.compactMap { member in
                    if case .null = member.value { return nil }
                    return (member.key, withoutNulls(member.value))
                })
        case .array(let items):
            return .array(items.map(withoutNulls))
        default:
            return value
        }
    }

    private static func replacingToken(_ config: JSONValue, with token: String?) -> JSONValue {
        guard case .object(var members) = config,
            let index = members.firstIndex(where: { $0.key == "admin" }),
            case .object(var admin) = members[index].value
        else { return config }
        admin.removeAll { $0.key == "token" }
        if let token { admin.append((key: "token", value: .string(token))) }
        members[index].value = .object(admin)
        return .object(members)
    }
}
