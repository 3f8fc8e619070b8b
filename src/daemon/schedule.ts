/**
 * The alternate speed schedule (Transmission's alt-speed-time-*): minutes after local midnight
 * for the start and end (the window may wrap past midnight) and a day mask (Sunday 1, Monday 2,
 * … Saturday 64). The daemon follows transitions only: at the window's start alt speed turns on,
 * at its end off; a manual toggle in between holds until the next transition.
 */
export interface AltSpeedTime {
  'alt-speed-time-enabled': boolean;
  'alt-speed-time-begin': number;
  'alt-speed-time-end': number;
  'alt-speed-time-day': number;
}

/** Whether local time `d` is inside the window; the window belongs to the day it starts on. */
export function inAltSpeedWindow(d: Date, s: AltSpeedTime): boolean {
  const minute = d.getHours() * 60 + d.getMinutes();
  const day = d.getDay();
  const begin = s['alt-speed-time-begin'];
  const end = s['alt-speed-time-end'];
  const dayOn = (n: number): boolean => (s['alt-speed-time-day'] & (1 << ((n + 7) % 7))) !== 0;
  if (begin === end) return false;
  if (begin < end) return dayOn(day) && minute >= begin && minute < end;
  // Wraps midnight: the evening part is today's, the morning part yesterday's.
  return (minute >= begin && dayOn(day)) || (minute < end && dayOn(day - 1));
}
