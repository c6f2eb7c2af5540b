/**
 * Mute: the one decision whether people are told about an alert now (silenced, inhibited, flapping,
 * acknowledged), used by the engine's announcements and by the notification pipeline's mute stage.
 */
export {
  createMute,
  MuteReason,
  type AckState,
  type Announcement,
  type MuteDecision,
  type MuteFn,
  type Muter,
  type MuteSubject,
} from './mute.ts';
export { ackCovers, acknowledger, flapDetector, inhibitor, silencer } from './muters.ts';
