/** @module aws/dynamodb-client — the process's DynamoDB client and its document client (aws/clients.ts). */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { clientOptions, sharedClient } from "./clients.ts";

export function dynamoDbClient(): DynamoDBClient {
  return sharedClient("DynamoDB", () => new DynamoDBClient(clientOptions()));
}

let documentClient: DynamoDBDocumentClient | undefined;
/** Document client over the shared DynamoDB client; empty strings and undefined are dropped. */
export function documentDbClient(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(dynamoDbClient(), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return documentClient;
}
