/**
 * Preloaded (node --import) into the process a benchmark measures, the real netchat-bot: it
 * answers the benchmark's requests over the IPC channel with the process's own view of itself
 * (process.cpuUsage, RSS, heap), and on request records a CPU profile of a window (for
 * BENCH_PROFILE_DIR). It does nothing else.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

let inspector;

function post(method, params = {}) {
  return new Promise((resolve, reject) =>
    inspector.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
  );
}

async function profile(message) {
  if (message.action === 'start') {
    inspector = new Session();
    inspector.connect();
    await post('Profiler.enable');
    await post('Profiler.start');
    return {};
  }
  const { profile } = await post('Profiler.stop');
  writeFileSync(message.path, JSON.stringify(profile));
  inspector.disconnect();
  return { path: message.path };
}

if (process.send) {
  process.on('message', async (message) => {
    if (message?.type === 'profile') {
      process.send({ type: 'profile', id: message.id, ...(await profile(message)) });
      return;
    }
    if (message?.type !== 'sample') return;
    const memory = process.memoryUsage();
    process.send({
      type: 'sample',
      id: message.id,
      at: performance.now(),
      cpu: process.cpuUsage(),
      rss: memory.rss,
      heapUsed: memory.heapUsed,
    });
  });
  // The channel must not keep the bot alive on its own.
  process.channel?.unref();
}
