"""What a session keeps, without Qt: each event's keyframe (`keyframes`) and the session
folder written while it runs (`recorder`). The app, the CLI's `export` and the review
mode read and write them."""
