import { statfs } from 'node:fs/promises';

/**
 * statfs(2) magic numbers of disk-backed and memory file systems (linux/magic.h). A read there is served from the
 * page cache in microseconds (the follower reads what was just appended), so it may block the event loop; a network
 * or FUSE file system (NFS, CIFS, sshfs...) can stall a read for as long as its server is away, and is read through
 * the thread pool. Anything not listed counts as remote.
 */
const LOCAL_FILE_SYSTEMS = new Set([
  0xef53, // ext2/3/4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0x01021994, // tmpfs
  0x794c7630, // overlayfs
  0x2fc12fc1, // zfs
  0xf2f52010, // f2fs
  0x52654973, // reiserfs
  0x3153464a, // jfs
]);

/** False when it cannot tell (statfs refused, not Linux): the thread pool is always safe. */
export async function onLocalFileSystem(path: string): Promise<boolean> {
  try {
    return LOCAL_FILE_SYSTEMS.has((await statfs(path)).type);
  } catch {
    return false;
  }
}
