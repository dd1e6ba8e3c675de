#!/usr/bin/env bash
# The main job end to end on a sample frame the project makes itself:
# workspace -> consent license -> stamp -> verify -> strip metadata -> verify again,
# for a still frame and then for a clip re-encoded the way a platform would.
set -euo pipefail
demo=${DEMO_DIR:-demo}
rm -rf "$demo"
provenance init "$demo" --vendor "Demo Avatar Studio"
export PROVENANCE_WORKSPACE="$demo"
provenance sample "$demo/frame.png" --size 640x480
provenance license grant --face-id face-0001 --allow education,marketing \
  --deny politics,gambling --territory EU,US --until "$(date -d '+1 year' +%F)" \
  --royalty-per-use 0.50 --royalty-per-minute 2.00 --royalty-per-licensee 25 \
  -o "$demo/license.json"
provenance stamp "$demo/frame.png" -o "$demo/stamped.jpg" --license "$demo/license.json" \
  --purpose education --territory DE
echo "--- verify the stamped file"
provenance verify "$demo/stamped.jpg"
echo "--- an upload pipeline re-encodes it (quality 85) and strips the manifest"
python -c "from PIL import Image; Image.open('$demo/stamped.jpg').save('$demo/reupload.jpg', quality=85)"
provenance verify "$demo/reupload.jpg"
echo "--- a use the face owner did not consent to is refused"
if provenance stamp "$demo/frame.png" -o "$demo/politics.jpg" \
     --license "$demo/license.json" --purpose politics; then
  echo "BUG: out-of-scope stamp was accepted" >&2; exit 1
fi
echo "--- a clip: every frame watermarked, the MP4 signed"
provenance sample "$demo/lesson.mp4" --size 1280x720 --seconds 4
provenance stamp "$demo/lesson.mp4" -o "$demo/lesson-stamped.mp4" --license "$demo/license.json" \
  --purpose education --territory DE --preset veryfast
provenance verify "$demo/lesson-stamped.mp4"
echo "--- a platform re-encodes it to 480p, CRF 28, 25 fps, and drops the metadata"
ffmpeg -v error -y -i "$demo/lesson-stamped.mp4" -vf scale=-2:480 -r 25 -c:v libx264 -crf 28 \
  -map_metadata -1 "$demo/lesson-reupload.mp4"
provenance verify "$demo/lesson-reupload.mp4"
echo "--- the face owner's usage ledger: every stamp, chained and signed"
provenance ledger --face-id face-0001
provenance ledger verify
echo "--- the face owner revokes the license: the next stamp is refused"
provenance license revoke "$demo/license.json" --reason "withdrawn for the demo" \
  -o "$demo/revocation.json"
if provenance stamp "$demo/frame.png" -o "$demo/after-revoke.jpg" \
     --license "$demo/license.json" --purpose education; then
  echo "BUG: stamp under a revoked license was accepted" >&2; exit 1
fi
provenance verify "$demo/stamped.jpg"
echo "demo ok: files in $demo/"
