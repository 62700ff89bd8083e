/**
 * @module aws/condition-failure
 * Reading the item a failed condition returns (ReturnValuesOnConditionCheckFailure: ALL_OLD):
 * it comes back as DynamoDB wrote it ({N: "…"}), not unmarshalled, even through the document client.
 */
import type { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";

/** A number attribute of the item that failed the condition; 0 when it has none. */
export function failedItemNumber(error: ConditionalCheckFailedException, name: string): number {
  const value = (error.Item as Record<string, { N?: string } | number> | undefined)?.[name];
  return Number(typeof value === "number" ? value : (value?.N ?? 0));
}
