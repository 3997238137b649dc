export { freePort } from './free-port.js';
export { hasTmux, TmuxTerminal } from './tmux.js';
