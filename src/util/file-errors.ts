// Plain words for file errors and file names in one-line messages.

/** Plain words for the file errors a user is likely to cause. */
const FILE_ERRORS: Record<string, string> = {
  ENOENT: "no such file",
  EISDIR: "is a directory",
  ENOTDIR: "a part of the path is not a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  EMFILE: "too many open files",
  ENAMETOOLONG: "file name too long",
  ENXIO: "no such device or address",
  ENODEV: "no such device",
  ELOOP: "too many levels of symbolic links",
  EIO: "input/output error",
  // Not errno values: the scan raises the first for a socket path, Node.js the second for a descriptor it cannot stream.
  ERR_UNIX_SOCKET: "is a UNIX socket, not a file; connect to it with a tool such as socat and pipe the data in",
  ERR_INVALID_FD_TYPE: "unsupported file type",
};

/** Returns a short description of a file error: plain words for common codes, else the code or message. */
export function describeFileError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === "string") return FILE_ERRORS[code] ?? code;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Returns a file name fit for a one-line message or alert prefix: control
 * characters (a newline in a name would split the line) are escaped as in JSON.
 */
export function displayName(name: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(name) ? JSON.stringify(name).slice(1, -1) : name;
}
