"""What a child's device sees over plain HTTP: the block page, served by the
plain-HTTP listener for every host name that is not the dashboard's."""
