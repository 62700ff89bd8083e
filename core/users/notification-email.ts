/**
 * @module users/notification-email
 * A user's email for "your session finished" notices (core/sessions/session-finished.ts): an email
 * subscription to the deployment's notification topic whose filter policy lets through only
 * messages whose `username` attribute is this user's, so nobody hears about another's sessions.
 * SNS sends the address a confirmation first; notices flow once it is confirmed. A new address
 * replaces the old subscription.
 */
import { SubscribeCommand, UnsubscribeCommand } from "@aws-sdk/client-sns";
import { snsClient } from "../aws/sns-client.ts";
import { config } from "../config.ts";
import { ValidationError } from "../errors.ts";
import { getUser, setEmail, type UserRecord } from "./user-store.ts";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export async function subscribeEmail(username: string, email: string): Promise<UserRecord> {
  if (!EMAIL.test(email))
    throw new ValidationError(`"${email}" is not an email address, like ada@example.org.`, "email");
  const before = await getUser(username);
  const { SubscriptionArn } = await snsClient().send(
    new SubscribeCommand({
      TopicArn: config.notificationTopicArn,
      Protocol: "email",
      Endpoint: email,
      Attributes: { FilterPolicy: JSON.stringify({ username: [username] }) },
      ReturnSubscriptionArn: true,
    }),
  );
  const user = await setEmail(username, email, SubscriptionArn ?? "pending confirmation");
  const old = before?.EmailSubscription;
  if (old?.startsWith("arn:") && old !== SubscriptionArn) {
    await snsClient().send(new UnsubscribeCommand({ SubscriptionArn: old }));
  }
  return user;
}
