// Must not type-check: SendMesage is no method of the chat hub.
import * as signalR from "@microsoft/signalr";
import type { ChatHubConnection } from "./chat-hub";

export async function chat(url: string): Promise<void> {
  const connection = new signalR.HubConnectionBuilder().withUrl(url).build() as unknown as ChatHubConnection;
  await connection.invoke("SendMesage", "alice", "hello");
}
