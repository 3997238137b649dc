import { netchatTransfer } from './transport-loopback.js';
const r = await netchatTransfer(Number(process.argv[2] ?? 512 * 1024 ** 2));
console.log(JSON.stringify({ ...r, detail: undefined }), JSON.stringify((r.detail as any).sender.path), JSON.stringify((r.detail as any).receiver.path));
