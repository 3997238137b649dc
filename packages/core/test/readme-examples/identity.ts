// README's identity example, a program: prints what it knows of each peer that asks (NETCHAT_HOME says where).
// ---- README ----
import { describeTrust, KnownPeers, loadIdentity, netchatHome, NetchatPeer } from '../../src/index.js';

const home = netchatHome(); // $NETCHAT_HOME, else $XDG_CONFIG_HOME/netchat, else ~/.config/netchat
const { keyPair } = loadIdentity(home); // made on first run (mode 0600); IdentityError if unusable
const known = KnownPeers.load(home);
const peer = await NetchatPeer.listen({ port: 0, identity: keyPair });
peer.on('request', (e) => {
  for (const line of describeTrust(e.fingerprint, e.nick, known.check(e.publicKey, e.nick))) console.log(line);
});
// ---- end README ----
console.log(`listening on port ${peer.address.port}`);
process.on('SIGINT', async () => {
  await peer.close();
  process.exit(0);
});
