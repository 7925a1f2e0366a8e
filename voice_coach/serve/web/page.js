"use strict";
// A chapter button jumps its routine's player to the chapter and plays from there.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-start]");
  if (!button) return;
  const audio = button.closest(".routine").querySelector("audio");
  audio.currentTime = Number(button.dataset.start);
  audio.play().catch(() => {});
});
// One routine at a time: starting a player pauses the others.
document.addEventListener("play", (event) => {
  for (const audio of document.querySelectorAll("audio")) {
    if (audio !== event.target) audio.pause();
  }
}, true);
// Mark the chapter being played.
document.addEventListener("timeupdate", (event) => {
  const audio = event.target;
  const buttons = audio.closest(".routine").querySelectorAll("button[data-start]");
  let current = null;
  for (const button of buttons) {
    if (Number(button.dataset.start) <= audio.currentTime + 0.05) current = button;
  }
  for (const button of buttons) button.setAttribute("aria-current", String(button === current));
}, true);
