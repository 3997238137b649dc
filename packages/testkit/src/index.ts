export { VirtualClock, VirtualTimers } from '@netchat/core/testing';
export { cleanUp } from './clean-up.js';
export { forgedUdpUnavailable, sendForgedUdp, strangersInit, type UdpEndpoint } from './forged-udp.js';
export { freshHome } from './fresh-home.js';
export { hasIpv6Loopback } from './ipv6.js';
export { type ProgramOptions, ProgramProcess } from './program.js';
export { removeTemporaryDirectories, temporaryDirectory } from './temporary.js';
export { hasTmux, TmuxTerminal } from './tmux.js';
export { settle, VirtualNetwork, VirtualPeer } from './virtual-network.js';
