import Gateway
import GatewayRuntime
import Glibc
import Reactor

func printError(_ text: String) {
    var line = Array((text + "\n").utf8)
    line.withUnsafeMutableBytes { _ = write(2, $0.baseAddress, $0.count) }
}

func loadOrExit(_ path: String) -> GatewayConfig {
    switch ConfigFile.load(path: path) {
    case .success(let config):
        return config
    case .failure(let problems):
        for problem in problems.errors { printError(problem.description) }
        exit(1)
    }
}

let command: Command
do {
    command = try CommandLineParser.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    printError("portico: \(error.message)\n\(CommandLineParser.usage)")
    exit(2)
}

ignoreBrokenPipeSignal()

switch command {
case .version:
    print("portico \(GatewayServer.version)")
case .help:
    print(CommandLineParser.usage)
case .check(let path, let diff):
    let config = loadOrExit(path)
    print("configuration OK")
    for line in config.summary() { print(line) }
    if diff { exit(ReloadPreview.run(file: config)) }
case .echo(let listen, let name):
    let signals: SignalSource
    do {
        signals = try SignalSource(signals: [SIGTERM, SIGINT])
    } catch {
        printError("portico: \(error)")
        exit(1)
    }
    let address: ConfigAddress
    switch ConfigAddress.parse(listen, resolve: SystemResolver.resolve) {
    case .success(let parsed): address = parsed
    case .failure(let problem):
        printError("portico: --listen: \(problem.message)")
        exit(2)
    }
    let server: EchoServer
    do throws(SystemError) {
        server = try EchoServer(address: address, name: name)
    } catch {
        printError("listen \(listen): \(error.lowercasedReason)")
        exit(1)
    }
    let log = ProcessLog()
    log.info("echo listening", ["address": server.address.description, "name": name])
    while signals.wait(timeoutMilliseconds: -1) == nil {}
    server.stop()
case .run(let path):
    let signals: SignalSource
    do {
        // Blocked before any thread starts, so only the main thread sees them.
        signals = try SignalSource(signals: [SIGTERM, SIGINT, SIGHUP])
    } catch {
        printError("portico: \(error)")
        exit(1)
    }
    let config = loadOrExit(path)
    let log = ProcessLog()
    let server: GatewayServer
    do {
        server = try GatewayServer(config: config, configPath: path, log: log)
        try server.start()
    } catch {
        printError(error.message)
        exit(1)
    }
    for listener in config.listeners {
        log.info(
            "listening",
            ["listener": listener.name, "port": "\(server.port(ofListener: listener.name) ?? 0)"])
    }
    let supervisor = Supervisor(server: server, log: log)
    exit(supervisor.run(signals: signals))
}
