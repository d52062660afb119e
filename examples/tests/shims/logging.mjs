// wasi:logging for tests under jco serve: each message goes to stderr as
// "[level] context: message". `--jco-map wasi:logging/logging=<this file>`.
export function log(level, context, message) {
    process.stderr.write(`[${level}] ${context}: ${message}\n`);
}
