import Glibc

/// glibc functions the Glibc module hides because it is built without `_GNU_SOURCE`,
/// looked up once with `dlsym`.
///
/// Both matter for isolation between parallel tests: descriptors must be close-on-exec from
/// birth, or a `portico` child spawned concurrently by another test could inherit them.
enum GNUFunctions {
    /// `posix_spawn_file_actions_addchdir_np` (glibc 2.29+).
    typealias AddChdir =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    /// `accept4` (glibc 2.10+).
    typealias Accept4 =
        @convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, Int32) ->
        Int32

    /// The `addchdir` file action, or nil if this libc lacks it.
    static let addChdirAction: AddChdir? = lookUp("posix_spawn_file_actions_addchdir_np", as: AddChdir.self)

    private static let accept4Function: Accept4 = {
        guard let function = lookUp("accept4", as: Accept4.self) else { fatalError("libc lacks accept4") }
        return function
    }()

    /// `accept4(2)`: accepts with `flags` (SOCK_CLOEXEC, SOCK_NONBLOCK) applied atomically.
    static func accept4(
        _ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: UnsafeMutablePointer<socklen_t>?,
        _ flags: Int32
    ) -> Int32 {
        accept4Function(fd, address, length, flags)
    }

    private static func lookUp<Function>(_ name: String, as type: Function.Type) -> Function? {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, name) else { return nil }
        return unsafeBitCast(symbol, to: type)
    }
}
