/* Must compile: the control for misspelled.c and wrong-argument.c, built
 * with the same command, so that their failure means what it should. */
#include "chat-hub-gen.h"

void right (HubsClientProxy *proxy);

void
right (HubsClientProxy *proxy)
{
  chat_client_call_receive_message (proxy, "user", "message");
}
