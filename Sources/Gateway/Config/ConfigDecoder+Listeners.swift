extension ConfigDecoder {
    static let listenerKeys: Set<String> = ["name", "address", "trustedProxies"]
    static let adminKeys: Set<String> = ["address", "token"]

    /// `listeners`: required, non-empty; addresses and names unique. Nil when unusable.
    mutating func decodeListeners(_ root: ConfigObject) -> [ListenerConfig]? {
        guard let node = required(root, "listeners") else { return nil }
        guard let nodes = array(node, at: "listeners") else { return nil }
        if nodes.isEmpty {
            report("listeners", "must not be empty", at: node.offset)
            return nil
        }
        var listeners: [ListenerConfig] = []
        var complete = true
        var addressOwners: [AddressKey: String] = [:]
        var nameOwners: [String: String] = [:]
        for (path, element) in elements(nodes, at: "listeners") {
            guard let (listener, offsets) = decodeListener(element, at: path) else {
                complete = false
                continue
            }
            // Port 0 asks the kernel for a fresh port each time, so two of them never clash.
            if listener.address.port != 0 {
                let key = AddressKey(listener.address)
                if let owner = addressOwners[key] {
                    report(path + ".address", "same address as \(owner)", at: offsets.address)
                } else {
                    addressOwners[key] = path
                }
            }
            if let owner = nameOwners[listener.name] {
                report(path + ".name", "same name as \(owner)", at: offsets.name)
            } else {
                nameOwners[listener.name] = path
            }
            listeners.append(listener)
        }
        return complete ? listeners : nil
    }

    private mutating func decodeListener(
        _ node: JSONNode, at path: String
    ) -> (ListenerConfig, offsets: (address: Int, name: Int))? {
        guard let object = object(node, at: path, keys: ConfigDecoder.listenerKeys) else { return nil }
        let name = string(object, "name")
        if let name, name.isEmpty {
            report(object.path("name"), "must not be empty", at: object["name"]!.offset)
        }
        var proxies: [CIDR] = []
        if let nodes = array(object, "trustedProxies") {
            for (elementPath, element) in elements(nodes, at: object.path("trustedProxies")) {
                guard let text = string(element, at: elementPath) else { continue }
                guard let cidr = CIDR(text) else {
                    report(elementPath, "invalid CIDR \"\(text)\"", at: element.offset)
                    continue
                }
                proxies.append(cidr)
            }
        }
        guard let addressNode = required(object, "address"),
            let address = address(addressNode, at: object.path("address"), allowPortZero: true)
        else { return nil }
        let offsets = (address: addressNode.offset, name: object["name"]?.offset ?? addressNode.offset)
        return (ListenerConfig(name: name, address: address, trustedProxies: proxies), offsets)
    }

    /// `admin`: nil when absent or null (the endpoint is disabled). Its address may not be one
    /// of the listeners', and a non-loopback address needs a token.
    mutating func decodeAdmin(_ root: ConfigObject, listeners: [ListenerConfig]?) -> AdminConfig? {
        guard let object = nested(root, "admin", keys: ConfigDecoder.adminKeys) else { return nil }
        var admin = AdminConfig()
        var addressIsValid = true
        if let node = optional(object, "address") {
            if let address = address(node, at: object.path("address"), allowPortZero: true) {
                admin.address = address
                if let index = listeners?.firstIndex(where: {
                    address.port != 0 && AddressKey($0.address) == AddressKey(address)
                }) {
                    report(object.path("address"), "same address as listeners[\(index)]", at: node.offset)
                }
            } else {
                addressIsValid = false
            }
        }
        if let token = string(object, "token") {
            let offset = object["token"]!.offset
            if token.isEmpty {
                report(object.path("token"), "must not be empty", at: offset)
            } else if !ConfigSyntax.isVisibleASCII(token) {
                report(object.path("token"), "must contain only visible ASCII characters", at: offset)
            }
            admin.token = token
        } else if optional(object, "token") == nil && addressIsValid && !admin.address.ip.isLoopback {
            report(
                object.path("token"), "required when the admin address is not loopback", at: object.lastOffset
            )
        }
        return admin
    }
}

/// An address's identity for duplicate checks: the resolved IP and port, whatever the spelling.
struct AddressKey: Hashable {
    let ip: IPAddress
    let port: UInt16

    init(_ address: ConfigAddress) {
        ip = address.ip
        port = address.port
    }
}
