/**
 * The command-line options every netchat front-end shares, parsed with node's util.parseArgs
 * and validated with zod at this one boundary. A bad flag becomes a UsageError: one line,
 * exit code 2. What this package offers, one concept a file (ARCHITECTURE.md lists them).
 */

export {
  completionProblem,
  completionScript,
  SHELLS,
  type Shell,
  type UsageOption,
  usageOptions,
} from './completion.js';
export { type NextWords, nextWords, type UsageCommand, usageCommands } from './completion-commands.js';
export { answerEarly, type EarlyProgram, earlyAnswer } from './early.js';
export {
  downloadFolderOf,
  FileArguments,
  fileFlags,
  fileFlagsHelp,
  fileLinkOf,
  parseSize,
  sizeArgument,
} from './file-flags.js';
export {
  FrontEndArguments,
  frontEndFlags,
  peerNameArgument,
  SharedFrontEndArguments,
  sharedFrontEndFlags,
  yesFlagHelp,
} from './front-end.js';
export { knownPeerAddresses, knownPeerFingerprints, knownPeerNames } from './known-peer-words.js';
export {
  keyHomeHelp,
  ownSentence,
  PeerArguments,
  parseCommandLine,
  peerArgument,
  peerFlags,
  peerFlagsHelp,
  peerOptionsFrom,
  positiveNumberArgument,
  secondsArgument,
  wholeNumberArgument,
} from './peer-flags.js';
export {
  completionWords,
  exitWith,
  exitWithUsage,
  listenOrExit,
  loadIdentityOrExit,
  loadKnownPeersOrExit,
  type OpenedHome,
  openHomeOrExit,
  type ProgramInfo,
  readCommandLine,
  startPeerOrExit,
} from './program.js';
export { reachableAddresses } from './reachable-addresses.js';
export {
  loadSettingsOrExit,
  RENDEZVOUS_SILENCE_MS,
  RendezvousArguments,
  rendezvousFinder,
  rendezvousFlags,
  rendezvousFlagsHelp,
  Settings,
  settingsHelp,
  settingsProblem,
  startRendezvousOrExit,
} from './rendezvous.js';
export { stunBinding } from './stun.js';
export { UsageError } from './usage-error.js';
