import { netchatTransfer } from './transport-loopback.js';
const r = await netchatTransfer(Number(process.argv[2] ?? 512 * 1024 ** 2));
const detail = r.detail as { sender: { path: unknown }; receiver: { path: unknown } };
console.log(JSON.stringify({ ...r, detail: undefined }), JSON.stringify(detail.sender.path), JSON.stringify(detail.receiver.path));
