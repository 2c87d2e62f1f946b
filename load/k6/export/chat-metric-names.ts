/**
 * The custom metrics of the k6 script, as the exporter writes them into thresholds. The script's
 * module (script/chat-k6-session.ts) declares the same names itself, because it is copied next to
 * the exported script and may import nothing but k6; a test keeps the two lists equal.
 */
export const ChatMetricNames = {
  deliverLatencyMs: 'chat_deliver_latency_ms',
  ackLatencyMs: 'chat_ack_latency_ms',
  errors: 'chat_errors',
  messagesSent: 'chat_messages_sent',
  messagesDelivered: 'chat_messages_delivered',
  messagesLost: 'chat_messages_lost',
} as const;
