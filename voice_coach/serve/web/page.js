"use strict";
// The players: chapter buttons, one routine at a time, the chapter being played marked;
// and the phone's lock screen and headset buttons (the Media Session, where the browser
// has one), which act on the routine that played last.
const SEEK_STEP_S = 10;
const RESTART_S = 3; // "previous" later than this into a chapter restarts it
const session = "mediaSession" in navigator ? navigator.mediaSession : null;
let owner = null; // the audio element the session describes and its buttons move

const routineOf = (audio) => audio.closest(".routine");
const chapterButtons = (audio) => [...routineOf(audio).querySelectorAll("button[data-start]")];
const starts = (audio) => chapterButtons(audio).map((button) => Number(button.dataset.start));

// The chapter playing: its index, or -1 when the routine has none.
function chapterAt(audio) {
  // A little slack: a seek to a chapter's start may land just before it.
  const now = audio.currentTime + 0.05;
  return starts(audio).reduce((found, start, i) => (start <= now ? i : found), -1);
}

function seek(audio, seconds) {
  const end = Number.isFinite(audio.duration) ? audio.duration : Infinity;
  audio.currentTime = Math.min(Math.max(seconds, 0), end);
}

// What the lock screen shows: the exercise as the title (shown largest), the routine
// as the artist, and the cover the export embeds.
function describe(audio) {
  const routine = routineOf(audio);
  const chapter = chapterButtons(audio)[chapterAt(audio)];
  session.metadata = new MediaMetadata({
    title: chapter ? chapter.dataset.title : routine.dataset.title,
    artist: chapter ? routine.dataset.title : "",
    album: "voice_coach",
    artwork: routine.dataset.cover ? [{ src: routine.dataset.cover }] : [],
  });
}

// The lock screen's progress bar. It runs on by itself while playing, so this is
// needed only when the position, the rate or the length changes otherwise.
function showPosition(audio) {
  if (!session || audio !== owner || !Number.isFinite(audio.duration)) return;
  try {
    session.setPositionState({
      duration: audio.duration,
      playbackRate: audio.playbackRate,
      position: Math.min(audio.currentTime, audio.duration),
    });
  } catch {
    // A rate of 0, or a browser without position state: no progress bar, nothing worse.
  }
}

const ACTIONS = {
  play: (audio) => audio.play().catch(() => {}),
  pause: (audio) => audio.pause(),
  stop: (audio) => {
    audio.pause();
    seek(audio, 0);
  },
  seekbackward: (audio, details) =>
    seek(audio, audio.currentTime - (details.seekOffset || SEEK_STEP_S)),
  seekforward: (audio, details) =>
    seek(audio, audio.currentTime + (details.seekOffset || SEEK_STEP_S)),
  seekto: (audio, details) => seek(audio, details.seekTime),
};
const CHAPTER_ACTIONS = {
  previoustrack: (audio) => {
    const all = starts(audio);
    const i = chapterAt(audio);
    const start = all[i] ?? 0; // before the first chapter: the very start
    seek(audio, i <= 0 || audio.currentTime - start > RESTART_S ? start : all[i - 1]);
  },
  nexttrack: (audio) => {
    const next = starts(audio)[chapterAt(audio) + 1];
    if (next !== undefined) seek(audio, next);
  },
};

function offer(actions, on) {
  for (const [action, act] of Object.entries(actions)) {
    try {
      session.setActionHandler(action, on ? (details) => owner && act(owner, details) : null);
    } catch {
      // An action this browser does not know.
    }
  }
}

if (session) offer(ACTIONS, true);

// The routine that starts playing owns the session; the others pause.
function own(audio) {
  owner = audio;
  if (!session) return;
  describe(audio);
  offer(CHAPTER_ACTIONS, chapterButtons(audio).length > 0); // no dead buttons
  session.playbackState = "playing";
  showPosition(audio);
}

// A chapter button jumps its routine's player to the chapter and plays from there.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-start]");
  if (!button) return;
  const audio = routineOf(button).querySelector("audio");
  seek(audio, Number(button.dataset.start));
  audio.play().catch(() => {});
});
document.addEventListener("play", (event) => {
  for (const audio of document.querySelectorAll("audio")) {
    if (audio !== event.target) audio.pause();
  }
  own(event.target);
}, true);
document.addEventListener("pause", (event) => {
  if (!session || event.target !== owner) return;
  session.playbackState = "paused";
  showPosition(event.target);
}, true);
for (const type of ["seeked", "ratechange", "durationchange"]) {
  document.addEventListener(type, (event) => showPosition(event.target), true);
}
// Mark the chapter being played; a new one is named on the lock screen too.
document.addEventListener("timeupdate", (event) => {
  const audio = event.target;
  const buttons = chapterButtons(audio);
  const current = buttons[chapterAt(audio)];
  let changed = false;
  for (const button of buttons) {
    const value = String(button === current);
    changed ||= button.getAttribute("aria-current") !== value;
    button.setAttribute("aria-current", value);
  }
  if (changed && session && audio === owner) describe(audio);
}, true);
