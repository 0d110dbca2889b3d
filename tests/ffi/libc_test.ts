import assert from "node:assert/strict";
import {
  closeFd,
  ENOSPC,
  fallocate,
  libc,
  LIBC_PATH,
  LibcError,
  mmapShared,
  msync,
  munmap,
  O_CREAT,
  O_RDWR,
  openFd,
  openLibrary,
  pageSize,
} from "../../src/ffi/libc.ts";

Deno.test("mmap gives a zero-copy view whose writes reach the file after msync", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/m.bin`;
    const fd = openFd(path, O_RDWR | O_CREAT);
    fallocate(fd, 0, 2 * pageSize());
    const m = mmapShared(fd, 2 * pageSize());
    const u = new Uint8Array(m.buffer);
    u.set([1, 2, 3], pageSize() + 10);
    msync(m, pageSize() + 10, 3);
    munmap(m);
    closeFd(fd);
    const back = Deno.readFileSync(path);
    assert.equal(back.length, 2 * pageSize());
    assert.deepEqual([...back.subarray(pageSize() + 10, pageSize() + 13)], [1, 2, 3]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("libc failures carry errno and strerror", () => {
  assert.throws(
    () => openFd("/nonexistent-dir/x", O_RDWR),
    (e: unknown) =>
      e instanceof LibcError && e.code === 2 && /No such file or directory/.test(e.message),
  );
});

Deno.test("fallocate beyond the free space fails with ENOSPC", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const fd = openFd(`${dir}/big`, O_RDWR | O_CREAT);
    try {
      // 1 PiB: beyond any test machine's free space (some filesystems say EFBIG instead).
      fallocate(fd, 0, 2 ** 50);
      assert.fail("fallocate of 1 PiB succeeded");
    } catch (e) {
      assert.ok(e instanceof LibcError);
      assert.ok(e.code === ENOSPC || e.code === 27, `errno ${e.code}`);
    } finally {
      closeFd(fd);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("openLibrary binds each symbol set once and keeps sets apart", () => {
  const a = openLibrary(LIBC_PATH, { getpid: { parameters: [], result: "i32" } });
  const b = openLibrary(LIBC_PATH, { getpid: { parameters: [], result: "i32" } });
  assert.equal(a, b);
  assert.equal(a.getpid(), Deno.pid);
  assert.equal(typeof libc().mmap, "function");
});
