/**
 * The back-of-envelope table of the system design card the project started from (docs/design.md,
 * "The design card it started from"): its inputs and results, as numbers; docs/capacity.md
 * reproduces them. The card rounds: 100B / 86 400 s = 1.157M msgs/s is written "~1.2M".
 */
export const DESIGN_CARD_FIGURES = Object.freeze({
  users: 2_000_000_000,
  onlineShare: 0.25,
  messagesPerDay: 100_000_000_000,
  messageBytes: 100,
  connectionsPerServer: 10_000,
  messagesPerS: 1_200_000,
  concurrentConnections: 500_000_000,
  textBytesPerDay: 10e12,
  websocketServers: 50_000,
});

/** How far the model may be from the card's rounded figures and still "reproduce" them (the card's ~1.2M is 1.157M). */
export const DESIGN_CARD_TOLERANCE = 0.05;
