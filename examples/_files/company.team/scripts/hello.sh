echo "hello from a namespace file"
