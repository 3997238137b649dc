// Independent netchat peer, written from PROTOCOL.md only (not from packages/core/src).
//
// Where a receiver keeps what arrives (*Files: transfers*, *Session end, and resume*; *Files:
// names*, Copies). In memory (the default: nothing is held across sessions), or in a download
// folder: each file's bytes go to a hidden partial file found again by sender key, BLAKE2b-256 and
// size, with a small state file recording how many of its bytes are durable (fsynced); a verified
// file is put in place at its mapped path, never over anything (the first free `stem (n)ext`), and
// never through a folder on the way that is a file or a link (`not_a_folder`). Synchronous file
// calls: this is a test peer, and its files are small.

import fs from 'node:fs';
import path from 'node:path';
import { blake2b } from './blake2b.mjs';
import { copyName, MAX_COPIES } from './names.mjs';

const hex = (b) => Buffer.from(b).toString('hex');
const hashOf = (bytes) => hex(blake2b(bytes, 32));

/** Files held in memory until verified; nothing is kept across sessions. */
export class MemoryFiles {
  held() {
    return 0;
  }

  open(_key, offset) {
    if (offset !== 0) throw new Error('MemoryFiles: holds nothing to resume from');
    const parts = [];
    return {
      received: 0,
      write(bytes) {
        parts.push(bytes.slice());
        this.received += bytes.length;
      },
      interrupt() {},
      remove() {},
      /** The verdict, and the content for the application. */
      finish(key) {
        const content = Buffer.concat(parts);
        return { result: hashOf(content) === key.hash ? 'verified' : 'hash_mismatch', content };
      },
    };
  }
}

/** Files in a download folder, with partial files that survive a session (a resume). */
export class FolderFiles {
  constructor(folder) {
    this.folder = folder;
    fs.mkdirSync(folder, { recursive: true });
  }

  /** The partial's name: hidden (a mapped name never starts with `.`), from the key. */
  partialName({ senderKey, hash, size }) {
    return `.ncpartial-${hex(blake2b(new TextEncoder().encode(`${senderKey}/${hash}/${size}`), 16))}`;
  }

  stateOf(key) {
    try {
      const state = JSON.parse(fs.readFileSync(path.join(this.folder, `${this.partialName(key)}.state`), 'utf8'));
      const ok = state.senderKey === key.senderKey && state.hash === key.hash && state.size === key.size;
      return ok ? state : undefined;
    } catch {
      return undefined;
    }
  }

  /** The bytes of this file from this sender held durably (0 if none). */
  held(key) {
    const state = this.stateOf(key);
    if (!state) return 0;
    try {
      const length = fs.statSync(path.join(this.folder, this.partialName(key))).size;
      return Math.min(state.durable, length, key.size);
    } catch {
      return 0;
    }
  }

  /** The partial file, to be written from `offset` (at most what is held durably). */
  open(key, offset) {
    const name = this.partialName(key);
    const file = path.join(this.folder, name);
    const statePath = `${file}.state`;
    if (offset > this.held(key)) throw new Error(`FolderFiles: ${offset} bytes asked, fewer held`);
    const fd = fs.openSync(file, fs.existsSync(file) ? 'r+' : 'w+');
    fs.ftruncateSync(fd, offset); // what is beyond the durable bytes is not trusted
    const saveState = (durable) => {
      const temp = `${statePath}.tmp`;
      fs.writeFileSync(temp, JSON.stringify({ ...key, durable }));
      fs.renameSync(temp, statePath);
    };
    saveState(offset);
    let open = true;
    const close = () => {
      if (open) fs.closeSync(fd);
      open = false;
    };
    const remove = () => {
      close();
      fs.rmSync(file, { force: true });
      fs.rmSync(statePath, { force: true });
    };
    return {
      received: offset,
      write(bytes) {
        fs.writeSync(fd, bytes, 0, bytes.length, this.received);
        this.received += bytes.length;
      },
      /** The session ended: what was written is made durable and kept. */
      interrupt() {
        if (!open) return;
        fs.fsyncSync(fd);
        saveState(this.received);
        close();
      },
      remove,
      /** Checks the whole file, then puts it in place: { result, path } (path relative, `/`). */
      finish: (k, safePath) => {
        fs.fsyncSync(fd);
        close();
        const result = hashOf(fs.readFileSync(file)) === k.hash ? 'verified' : 'hash_mismatch';
        if (result !== 'verified') {
          remove();
          return { result };
        }
        const placed = this.place(file, safePath);
        if (placed.result === 'verified') fs.rmSync(statePath, { force: true });
        else remove();
        return placed;
      },
    };
  }

  /** Moves `file` to `safePath` (or its first free copy name) without replacing anything. */
  place(file, safePath) {
    const parts = safePath.split('/');
    let dir = this.folder;
    for (const part of parts.slice(0, -1)) {
      dir = path.join(dir, part);
      let stat;
      try {
        stat = fs.lstatSync(dir);
      } catch {
        fs.mkdirSync(dir);
        continue;
      }
      if (!stat.isDirectory()) return { result: 'not_a_folder' }; // a file or a link: not followed
    }
    const name = parts[parts.length - 1];
    for (let n = 0; n <= MAX_COPIES; n++) {
      const candidate = n === 0 ? name : copyName(name, n);
      try {
        fs.linkSync(file, path.join(dir, candidate)); // fails if the name is taken: nothing replaced
      } catch (error) {
        if (error.code === 'EEXIST') continue;
        return { result: 'write_failed' };
      }
      fs.rmSync(file);
      return { result: 'verified', path: [...parts.slice(0, -1), candidate].join('/') };
    }
    return { result: 'no_free_name' };
  }
}
