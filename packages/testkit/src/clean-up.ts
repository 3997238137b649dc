/**
 * What a test file leaves behind, removed when it ends (the vitest setup file calls this after
 * every file): programs still running are killed and waited for (so none writes into a folder
 * being removed), tmux servers are ended, and temporary folders removed.
 */
import { ProgramProcess } from './program.js';
import { removeTemporaryDirectories } from './temporary.js';
import { TmuxTerminal } from './tmux.js';

export async function cleanUp(): Promise<void> {
  await ProgramProcess.stopAll();
  TmuxTerminal.closeAll();
  removeTemporaryDirectories();
}
