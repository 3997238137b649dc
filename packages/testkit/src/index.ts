export { ProgramProcess } from './program.js';
export { hasTmux, TmuxTerminal } from './tmux.js';
export { freshHome } from './fresh-home.js';
export { settle, VirtualNetwork, VirtualPeer } from './virtual-network.js';
