/**
 * Helpers for the interop tests of files: what a test made (its stage of peers and links, and its
 * temporary folders), removed at the end whatever happened; and a netchat peer with a FileLink
 * and the independent peer, both taking files, with a session opened (and opened again) on
 * loopback. Waits are for conditions, bounded.
 */
import { FileLink, type FileLinkOptions } from '../../src/index.js';
import { temporaryFolder } from '../support/partial-files.js';
import { Stage } from './harness.js';
import type { IndependentPeerOptions } from './index.mjs';

export class FilesBed {
  stage: Stage | undefined;
  private readonly folders: { remove: () => void }[] = [];

  /** A temporary folder, removed by `close`. */
  folder(prefix: string) {
    const f = temporaryFolder(prefix);
    this.folders.push(f);
    return f;
  }

  newStage(): Stage {
    this.stage = new Stage();
    return this.stage;
  }

  async close(): Promise<void> {
    await this.stage?.close();
    this.stage = undefined;
    for (const f of this.folders.splice(0)) f.remove();
  }
}

/**
 * netchat ('N', its FileLink 'L') and the independent peer ('P') take files; `connect` opens a
 * session (the independent peer asks, netchat accepts every request) and gives both ids.
 */
export async function filesPair(
  bed: FilesBed,
  linkOptions: FileLinkOptions = {},
  independent: IndependentPeerOptions = {},
) {
  const s = bed.newStage();
  const r = s.recorder;
  const n = await s.netchat('N', { streams: true, files: true });
  const link = new FileLink(n, linkOptions);
  s.onCleanup(() => link.close());
  r.watch('L', link as never);
  const p = await s.independent('P', { streams: true, files: true, ...independent });
  n.on('request', (e) => n.accept(e.session));
  const connect = async () => {
    const mark = r.mark();
    const ps = p.connect('127.0.0.1', n.address.port);
    await r.waitFor('P', 'features', (e) => e.session === ps && e.streams === true);
    const features = await r.until(
      () => r.of('N', 'features', mark).find((e) => e.features.files === true),
      10_000,
      "netchat's features with files",
    );
    return { ps, ns: features.session as number };
  };
  return { s, r, n, p, link, connect, ...(await connect()) };
}
