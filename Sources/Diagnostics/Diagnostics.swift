// Placeholder: the logger lands with the client stack.
