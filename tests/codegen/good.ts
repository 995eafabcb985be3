// Must type-check: the chat hub used as its description says.
import * as signalR from "@microsoft/signalr";
import type { ChatHubConnection } from "./chat-hub";

export async function chat(url: string): Promise<void> {
  const connection = new signalR.HubConnectionBuilder().withUrl(url).build() as unknown as ChatHubConnection;
  connection.on("ReceiveMessage", (user, message) => console.log(`${user}: ${message}`));
  await connection.start();
  const nothing: void = await connection.invoke("SendMessage", "alice", "hello");
  return nothing;
}
