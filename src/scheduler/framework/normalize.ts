// Upstream's helper.DefaultNormalizeScore: scales raw scores so the highest becomes `max`
// (integer arithmetic, as upstream), optionally reversed so that the lowest raw score wins.
export function defaultNormalizeScore(max: number, reverse: boolean, scores: Float64Array): void {
  let top = 0;
  for (const s of scores) if (s > top) top = s;
  if (top === 0) {
    if (reverse) scores.fill(max);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    const s = Math.trunc((max * scores[i]!) / top);
    scores[i] = reverse ? max - s : s;
  }
}
