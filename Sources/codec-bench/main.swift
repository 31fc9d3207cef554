// Codec microbenchmark (issue 4): request heads parsed per second and MB/s (10^6 bytes) for a
// small GET and a browser-like request. Usage: codec-bench [seconds per sample, default 2].

import Glibc

let arguments = CommandLine.arguments.dropFirst()
guard arguments.count <= 1, let seconds = Double(arguments.first ?? "2"), seconds > 0 else {
    print("usage: codec-bench [seconds per sample]")
    exit(2)
}

print("| request | head bytes | fields | parses/s | MB/s | ns/parse |")
print("|---|---:|---:|---:|---:|---:|")
for sample in [CodecSample.smallGet, CodecSample.browser] {
    let run = ParseRun.measure(sample, seconds: seconds)
    let cells = [
        sample.name, String(sample.bytes.count), String(run.fieldCount),
        NumberText.grouped(run.parsesPerSecond), NumberText.fixed(run.megabytesPerSecond, 1),
        NumberText.fixed(run.nanosecondsPerParse, 1),
    ]
    print("| " + cells.joined(separator: " | ") + " |")
}
