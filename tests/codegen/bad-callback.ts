// Must not type-check: ReceiveMessage passes strings, not numbers.
import * as signalR from "@microsoft/signalr";
import type { ChatHubConnection } from "./chat-hub";

export function chat(url: string): void {
  const connection = new signalR.HubConnectionBuilder().withUrl(url).build() as unknown as ChatHubConnection;
  connection.on("ReceiveMessage", (user: number, message: number) => console.log(user + message));
}
