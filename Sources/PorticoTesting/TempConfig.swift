import Glibc

/// A `gateway.json` written to a fresh private temporary directory, removed on deinit.
///
/// The directory also holds any sibling files a test needs (`file(named:)`, e.g. an access
/// log); everything directly inside it is deleted with it.
package final class TempConfig: Sendable {
    /// The private directory, e.g. `/tmp/portico-test-AbC123`.
    package let directory: String
    /// The configuration file's path inside `directory`.
    package let path: String

    /// Creates the directory and writes `json` to `fileName` inside it.
    package init(_ json: String, fileName: String = "gateway.json") throws {
        var template = Array("/tmp/portico-test-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { throw TestingError.system("mkdtemp", errno) }
        directory = String(cString: created)
        path = directory + "/" + fileName
        do {
            try write(json)
        } catch {
            rmdir(directory)
            throw error
        }
    }

    deinit {
        if let handle = opendir(directory) {
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { unlink(directory + "/" + name) }
            }
            closedir(handle)
        }
        rmdir(directory)
    }

    /// The path of a file named `name` in the private directory (not created).
    package func file(named name: String) -> String { directory + "/" + name }

    /// Replaces the configuration atomically (write a sibling, then `rename`), as for SIGHUP tests.
    package func write(_ json: String) throws {
        let staging = path + ".next"
        let fd = open(staging, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw TestingError.system("open \(staging)", errno) }
        let bytes = Array(json.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                let code = errno
                Glibc.close(fd)
                throw TestingError.system("write \(staging)", code)
            }
            offset += written
        }
        Glibc.close(fd)
        if rename(staging, path) != 0 { throw TestingError.system("rename to \(path)", errno) }
    }
}
