// CI guard: the server-mode suites need these services; say which one is missing instead of skipping.
import net from 'node:net';

const targets: [string, string | undefined][] = [
  ['PostgreSQL', process.env.CANDOR_TEST_PG_URL],
  ['NATS', process.env.CANDOR_TEST_NATS_URL],
  ['Redis', process.env.CANDOR_TEST_REDIS_URL],
];

function reachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname, port: Number(u.port), timeout: 3000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

let failed = false;
for (const [name, url] of targets) {
  if (!url) {
    console.error(`check-services: ${name} URL is not set`);
    failed = true;
  } else if (!(await reachable(url))) {
    console.error(
      `check-services: ${name} is not reachable at ${url}; start it before running the server-mode suites`,
    );
    failed = true;
  } else {
    console.log(`check-services: ${name} reachable at ${url}`);
  }
}
if (failed) process.exit(1);
