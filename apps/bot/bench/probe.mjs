/**
 * Preloaded (node --import) into the process a benchmark measures, the real netchat-bot: it
 * answers the benchmark's requests over the IPC channel with the process's own view of itself
 * (process.cpuUsage, RSS, heap), and does nothing else.
 */
if (process.send) {
  process.on('message', (message) => {
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
